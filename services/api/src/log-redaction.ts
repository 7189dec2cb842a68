// What the api writes to the log about a request must not carry its secrets: resolution tokens travel in
// the path of the resolution page, so every URL that is logged goes through redactUrl.

/** Request URLs without secrets: resolution tokens travel in the path. */
export const redactUrl = (url: string) => url.replace(/\/resolve\/[^/?#]+/, '/resolve/[redacted]');
