import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** What the fake saw: method, path with query, headers, parsed JSON body. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: any;
}

type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

/** A loopback HTTP server standing in for PAO in unit tests; routes are `METHOD /path` (no query). */
export class FakePao {
  readonly seen: SeenRequest[] = [];
  private readonly routes = new Map<string, Handler>();
  private server?: Server;
  baseUrl = '';

  route(key: string, handler: Handler): this {
    this.routes.set(key, handler);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      this.seen.push(seen);
      const handler = this.routes.get(`${seen.method} ${seen.url.split('?')[0]}`);
      if (!handler) {
        json(res, 404, { error: { name: 'NotFoundError', message: `no route ${seen.method} ${seen.url}` } });
        return;
      }
      await handler(seen, res);
    });
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>(resolve => this.server?.close(() => resolve()) ?? resolve());
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Writes server-sent events in PAO's framing (id, event, JSON data). */
export function sse(res: ServerResponse, events: { id: number; type: string; body: object; componentId?: string }[], end = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of events) {
    res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ ...event, requestId: 'r1' })}\n\n`);
  }
  if (end) res.end();
}
