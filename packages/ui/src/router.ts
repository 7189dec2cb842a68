// A tiny router on location.pathname under /ui/: links are ordinary <a href>, intercepted for pushState.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui/';

export type Route =
  | { page: 'queue' }
  | { page: 'ticket'; number: string }
  | { page: 'tenant'; tenantId: string }
  | { page: 'dead-letters' }
  | { page: 'complaints' }
  | { page: 'not-found' };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname === '/ui' ? '' : pathname.replace(/^\//, '');
  const parts = rest.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  if (parts.length === 0) return { page: 'queue' };
  if (parts[0] === 'tickets' && parts.length === 2) return { page: 'ticket', number: parts[1]! };
  if (parts[0] === 'tenants' && parts.length === 2) return { page: 'tenant', tenantId: parts[1]! };
  if (parts[0] === 'dead-letters' && parts.length === 1) return { page: 'dead-letters' };
  if (parts[0] === 'complaints' && parts.length === 1) return { page: 'complaints' };
  return { page: 'not-found' };
}

export const ticketHref = (number: string) => `${BASE}tickets/${encodeURIComponent(number)}`;
export const tenantHref = (tenantId: string) => `${BASE}tenants/${encodeURIComponent(tenantId)}`;

const listeners = new Set<() => void>();

export function navigate(href: string) {
  if (href === location.pathname + location.search) return;
  history.pushState(null, '', href);
  listeners.forEach((l) => l());
}

export function usePathname(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    // Same-origin links under /ui/ become pushState navigations; modified clicks keep the browser's behaviour.
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || a.target || a.hasAttribute('download')) return;
      const url = new URL(a.href, location.href);
      if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
      if (url.hash && url.pathname === location.pathname) return;
      e.preventDefault();
      navigate(url.pathname + url.search);
    };
    document.addEventListener('click', onClick);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
      document.removeEventListener('click', onClick);
    };
  }, []);
  return path;
}
