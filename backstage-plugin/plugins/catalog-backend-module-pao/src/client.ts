import { Entity } from '@backstage/catalog-model';

/** The part of PAO's HTTP API the catalog module reads. */
export interface PaoCatalogApi {
  /** Entities of the given kinds, as served by PAO's Backstage-native catalog. */
  getEntities(kinds: string[]): Promise<Entity[]>;
  /** A version string that changes whenever PAO's catalog changes; undefined if PAO has none. */
  getCatalogVersion(): Promise<string | undefined>;
}

/** Raised when PAO does not answer as expected; the message names the URL and the fix. */
export class PaoCatalogError extends Error {
  name = 'PaoCatalogError';
}

export class PaoCatalogClient implements PaoCatalogApi {
  private readonly baseUrl: string;
  private readonly serviceToken?: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: {
    baseUrl: string;
    serviceToken?: string;
    fetch?: typeof fetch;
    timeoutMs?: number;
  }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.serviceToken = options.serviceToken;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async getEntities(kinds: string[]): Promise<Entity[]> {
    // One filter param per kind: Backstage ORs repeated filters.
    const query = kinds.map(k => `filter=${encodeURIComponent(`kind=${k}`)}`).join('&');
    const url = `${this.baseUrl}/api/catalog/entities?${query}`;
    const response = await this.call(url);
    if (!response.ok) {
      throw new PaoCatalogError(
        `GET ${url} answered ${response.status}: ${await briefBody(response)} — check pao.baseUrl and pao.serviceToken`,
      );
    }
    const body = (await response.json()) as unknown;
    if (!Array.isArray(body)) {
      throw new PaoCatalogError(`GET ${url} did not return an array of entities — is pao.baseUrl PAO's root URL?`);
    }
    return body as Entity[];
  }

  async getCatalogVersion(): Promise<string | undefined> {
    const url = `${this.baseUrl}/api/pao/v1/catalog/etag`;
    const response = await this.call(url);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      throw new PaoCatalogError(`GET ${url} answered ${response.status}: ${await briefBody(response)}`);
    }
    const header = response.headers.get('etag');
    const text = await response.text();
    if (header) return header;
    try {
      const parsed = JSON.parse(text) as { etag?: unknown };
      if (typeof parsed.etag === 'string') return parsed.etag;
    } catch {
      // a plain-text body is the version itself
    }
    return text || undefined;
  }

  private async call(url: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.serviceToken) headers.authorization = `Bearer ${this.serviceToken}`;
    try {
      return await this.fetchImpl(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new PaoCatalogError(`PAO is not reachable at ${url}: ${String(error)} — check pao.baseUrl`);
    }
  }
}

async function briefBody(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    if (parsed.error?.message) return parsed.error.message;
  } catch {
    // not the Backstage error body
  }
  return text.slice(0, 300);
}
