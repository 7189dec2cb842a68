// The few server-rendered pages of single sign-on (refusals and failures), styled like the resolution
// page, with no script. `html` is trusted markup built by the caller (values in it are escaped there).
export const signInPage = (title: string, html: string) => `<!doctype html>
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
