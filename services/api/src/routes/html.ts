// Server-rendered HTML beside the UI: escaping, and the one-message pages of single sign-on (refusals and
// failures), styled like the resolution page, with no script.

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** A page saying one thing; `html` is trusted markup built by the caller, who escapes values with escapeHtml. */
export const messagePage = (title: string, html: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title} · abuse-desk</title>
<link rel="stylesheet" href="/resolve-assets/page.css">
</head>
<body>
<main>
<h1>${title}</h1>
<p>${html}</p>
</main>
</body>
</html>
`;
