// A local stand-in of Twilio's REST API (2010-04-01 Calls and Messages) for tests (TESTING.md, Twilio
// row): the real `twilio` client is pointed at it (twilio-client.ts), it answers like Twilio does
// (twilio-calls.ts, twilio-messages.ts), records every request and checks each against Twilio's own
// OpenAPI description (twilio-openapi.ts), refusing one that breaks it with Twilio's 400 and changing
// nothing — so a wrong parameter fails every test that sends it, not only those that read `specErrors`.
// This file is the HTTP server: parsing, routing, authentication, refusals, failures on demand.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallRegistry, type StandinCall } from './twilio-calls.js';
import { hex, twilioError } from './twilio-json.js';
import { MessageRegistry, type StandinMessage } from './twilio-messages.js';
import { recordedParams, resourceOperations, routeOf, specProblemsOf, specRefusal, type ResourceOperations, type SpecProblem, type TwilioResource } from './twilio-openapi.js';

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
  /** The messages created through Messages.json, by SID. */
  messages: Map<string, StandinMessage>;
  /** The numbers that replied STOP (optOut) and have not opted in again. */
  optedOut: ReadonlySet<string>;
  /**
   * `number` replied STOP: from now on a message create to it is refused with 400, code 21610
   * ("Attempt to send to unsubscribed recipient"), and creates nothing. Real Twilio keeps an opt-out per
   * sender (or messaging service); the stand-in keeps it for every sender of the account. The number is
   * compared as sent (E.164).
   */
  optOut(number: string): void;
  /** `number` replied START: messages to it are created again. */
  optIn(number: string): void;
  /**
   * The next `count` (default 1) Calls.json creates (`create`) or Messages.json creates (`message`):
   * `http500` creates the call or message and answers 500; `timeout` creates it and never answers;
   * `http400` answers 21211 ("Invalid 'To' Phone Number") and creates nothing.
   * For call updates (`update`): `timeout` never answers and changes nothing (the request was lost on
   * its way), `http500` answers 500 and changes nothing. Only requests Twilio would accept count: one
   * that breaks the spec, or a message create refused by Twilio's other rules or an opt-out, gets its
   * own 400 and uses up no planned failure.
   */
  failNext(kind: 'create' | 'update' | 'message', mode: TwilioStandinFailMode, count?: number): void;
  close(): Promise<void>;
}

export interface TwilioStandinOptions {
  accountSid?: string;
  authToken?: string;
  /** Answers each create (call or message) this long after making it, so a test can kill the caller between the two. */
  createDelayMs?: number;
}

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
  const messages = new MessageRegistry(accountSid);
  const failures: Record<'create' | 'update' | 'message', TwilioStandinFailMode[]> = { create: [], update: [], message: [] };
  const ops: Record<TwilioResource, ResourceOperations> = { calls: resourceOperations('calls'), messages: resourceOperations('messages') };

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

  /** A create that Twilio accepted: planned failures, then the resource's JSON with 201. */
  const created = async (res: ServerResponse, failure: TwilioStandinFailMode | undefined, make: () => unknown) => {
    const json = make();
    if (opts.createDelayMs) await new Promise((resolve) => setTimeout(resolve, opts.createDelayMs));
    if (failure === 'http500') send(res, 500, twilioError(500, 20500, 'Internal Server Error'));
    else if (failure === 'timeout') held.add(res);
    else send(res, 201, json);
  };
  const invalidTo = (res: ServerResponse, form: Map<string, string[]>) => send(res, 400, twilioError(400, 21211, `Invalid 'To' Phone Number: ${form.get('To')?.at(-1) ?? ''}`));

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

    const matched = routeOf(method, url.pathname);
    const route = matched?.kind ?? 'other';
    const resourceOps = ops[matched?.resource ?? 'calls'];
    problems.push(...specProblemsOf(resourceOps, route, query, form));
    const params = recordedParams(resourceOps, route, query, form);
    requests.push({ method, path: url.pathname, params, specErrors: problems.map((p) => p.text), at });

    if (!authorized(req)) {
      send(res, 401, { ...twilioError(401, 20003, 'Authenticate'), detail: 'Your AccountSid or AuthToken was incorrect.' }, { 'www-authenticate': 'Basic realm="Twilio API"' });
      return;
    }
    if (!matched || matched.accountSid !== accountSid) {
      notFound(res, url.pathname);
      return;
    }
    if (route === 'other') {
      send(res, 405, twilioError(405, 20004, 'Method not allowed'));
      return;
    }
    // Twilio validates before it acts: a refused request creates, updates and uses up nothing.
    if (problems.length > 0) {
      const refusal = specRefusal(route, problems, matched.resource);
      send(res, refusal.status, refusal.body);
      return;
    }

    if (matched.resource === 'messages') {
      if (route === 'create') {
        const refusal = messages.refusal(form);
        if (refusal) {
          send(res, refusal.status, refusal.body);
          return;
        }
        const failure = failures.message.shift();
        if (failure === 'http400') invalidTo(res, form);
        else await created(res, failure, () => messages.json(messages.create(form, params, at)));
      } else if (route === 'list') {
        send(res, 200, messages.list(url, query));
      } else {
        const message = messages.messages.get(matched.sid ?? '');
        if (message) send(res, 200, messages.json(message));
        else notFound(res, url.pathname);
      }
      return;
    }

    if (route === 'create') {
      const failure = failures.create.shift();
      if (failure === 'http400') invalidTo(res, form);
      else await created(res, failure, () => registry.json(registry.create(form, params, at)));
      return;
    }

    if (route === 'list') {
      send(res, 200, registry.list(url, query));
      return;
    }

    const call = registry.calls.get(matched.sid ?? '');
    if (!call) {
      notFound(res, url.pathname);
      return;
    }
    if (route === 'fetch') {
      send(res, 200, registry.json(call));
      return;
    }
    const updateFailure = failures.update.shift();
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
    messages: messages.messages,
    optedOut: messages.optedOut,
    optOut(number) {
      messages.optedOut.add(number);
    },
    optIn(number) {
      messages.optedOut.delete(number);
    },
    failNext(kind, mode, count = 1) {
      if (kind === 'update' && mode === 'http400') throw new Error('failNext: http400 is for creates only');
      for (let i = 0; i < count; i++) failures[kind].push(mode);
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
