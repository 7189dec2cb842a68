// A local stand-in of Twilio's REST API (2010-04-01 Calls) for tests (TESTING.md, Twilio row): the
// real `twilio` client is pointed at it (twilio-client.ts), it answers like Twilio does
// (twilio-calls.ts), records every request and checks each against Twilio's own OpenAPI description
// (twilio-openapi.ts), refusing one that breaks it with Twilio's 400 and changing nothing — so a wrong
// parameter fails every test that sends it, not only those that read `specErrors`. This file is the
// HTTP server: parsing, routing, authentication, refusals, failures on demand.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallRegistry, hex, twilioError, type StandinCall } from './twilio-calls.js';
import { callOperations, recordedParams, specProblemsOf, specRefusal, type CallsRoute, type SpecProblem } from './twilio-openapi.js';

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Query and form parameters; repeated ones (and array parameters of the spec) as arrays. */
  params: Record<string, string | string[]>;
  /** Where the request departs from twilio_api_v2010.json; empty when it conforms. A request with any is refused with 400. */
  specErrors: string[];
  at: Date;
}

export type TwilioStandinFailMode = 'http500' | 'timeout' | 'http400';

export interface TwilioStandin {
  /** `http://127.0.0.1:PORT`; twilioClientFor points the real client here. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  requests: RecordedRequest[];
  calls: Map<string, StandinCall>;
  /**
   * The next `count` (default 1) Calls.json creates: `http500` creates the call and answers 500;
   * `timeout` creates the call and never answers; `http400` answers 21211 and creates nothing.
   * For call updates (`update`): `timeout` never answers and changes nothing (the request was lost on
   * its way), `http500` answers 500 and changes nothing. Only requests that conform to the spec count:
   * one that breaks it is refused with its own 400 and uses up no planned failure.
   */
  failNext(kind: 'create' | 'update', mode: TwilioStandinFailMode, count?: number): void;
  close(): Promise<void>;
}

export interface TwilioStandinOptions {
  accountSid?: string;
  authToken?: string;
  /** Answers each create this long after making the call, so a test can kill the caller between the two. */
  createDelayMs?: number;
}

const CALLS_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const CALL_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

/** Every value of each parameter, in the order sent. */
function multiMap(params: Iterable<[string, string]>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of params) map.set(k, [...(map.get(k) ?? []), v]);
  return map;
}

export async function startTwilioStandin(opts: TwilioStandinOptions = {}): Promise<TwilioStandin> {
  const accountSid = opts.accountSid ?? `AC${hex(16)}`;
  const authToken = opts.authToken ?? hex(16);
  const requests: RecordedRequest[] = [];
  const registry = new CallRegistry(accountSid);
  const failures: TwilioStandinFailMode[] = [];
  const updateFailures: TwilioStandinFailMode[] = [];
  const ops = callOperations();

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, path: string) => send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));

  const authorized = (req: IncomingMessage) => {
    const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) return false;
    return Buffer.from(m[1], 'base64').toString('utf8') === `${accountSid}:${authToken}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = new Date();
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');

    // Parameters as sent, every value kept.
    const query = multiMap(url.searchParams);
    const form = multiMap(body.length > 0 ? new URLSearchParams(body) : []);
    const problems: SpecProblem[] = [];
    if (body.length > 0 && !/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      problems.push({ param: undefined, kind: 'invalid', text: `body sent as ${req.headers['content-type'] ?? 'no content type'}, not application/x-www-form-urlencoded` });
    }

    const callsMatch = CALLS_RE.exec(url.pathname);
    const callMatch = CALL_RE.exec(url.pathname);
    const route: CallsRoute =
      callsMatch && method === 'POST' ? 'create' : callsMatch && method === 'GET' ? 'list' : callMatch && method === 'POST' ? 'update' : callMatch && method === 'GET' ? 'fetch' : 'other';
    problems.push(...specProblemsOf(ops, route, query, form));
    const params = recordedParams(ops, route, query, form);
    requests.push({ method, path: url.pathname, params, specErrors: problems.map((p) => p.text), at });

    if (!authorized(req)) {
      send(res, 401, { ...twilioError(401, 20003, 'Authenticate'), detail: 'Your AccountSid or AuthToken was incorrect.' }, { 'www-authenticate': 'Basic realm="Twilio API"' });
      return;
    }
    const pathAccount = (callsMatch ?? callMatch)?.[1];
    if (route === 'other' || pathAccount !== accountSid) {
      if ((callsMatch || callMatch) && pathAccount === accountSid) {
        send(res, 405, twilioError(405, 20004, 'Method not allowed'));
      } else {
        notFound(res, url.pathname);
      }
      return;
    }
    // Twilio validates before it acts: a refused request creates, updates and uses up nothing.
    if (problems.length > 0) {
      const refusal = specRefusal(route, problems);
      send(res, refusal.status, refusal.body);
      return;
    }

    if (route === 'create') {
      const failure = failures.shift();
      if (failure === 'http400') {
        send(res, 400, twilioError(400, 21211, `Invalid 'To' Phone Number: ${form.get('To')?.at(-1) ?? ''}`));
        return;
      }
      const call = registry.create(form, params, at);
      if (opts.createDelayMs) await new Promise((resolve) => setTimeout(resolve, opts.createDelayMs));
      if (failure === 'http500') send(res, 500, twilioError(500, 20500, 'Internal Server Error'));
      else if (failure === 'timeout') held.add(res);
      else send(res, 201, registry.json(call));
      return;
    }

    if (route === 'list') {
      send(res, 200, registry.list(url, query));
      return;
    }

    const call = registry.calls.get(callMatch?.[2] ?? '');
    if (!call) {
      notFound(res, url.pathname);
      return;
    }
    if (route === 'fetch') {
      send(res, 200, registry.json(call));
      return;
    }
    const updateFailure = updateFailures.shift();
    if (updateFailure === 'timeout') {
      held.add(res);
      return;
    }
    if (updateFailure) {
      send(res, 500, twilioError(500, 20500, 'Internal Server Error'));
      return;
    }
    const reply = registry.update(call, form, at);
    send(res, reply.status, reply.body);
  };

  const held = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, twilioError(500, 20500, `stand-in error: ${err instanceof Error ? err.message : String(err)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    calls: registry.calls,
    failNext(kind, mode, count = 1) {
      if (kind === 'update' && mode === 'http400') throw new Error('failNext: http400 is for creates only');
      for (let i = 0; i < count; i++) (kind === 'create' ? failures : updateFailures).push(mode);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of held) res.destroy();
        held.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
