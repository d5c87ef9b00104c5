import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A scaffolder ActionContext for unit tests: records log lines and outputs. */
export function mockContext(input: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const logs: { level: string; message: string }[] = [];
  const outputs: Record<string, unknown> = {};
  const log = (level: string) => (message: string) => {
    logs.push({ level, message });
  };
  const logger = {
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    debug: log('debug'),
    child: () => logger,
  };
  const ctx: any = {
    input,
    logger,
    logs,
    outputs,
    output: (name: string, value: unknown) => {
      outputs[name] = value;
    },
    workspacePath: mkdtempSync(join(tmpdir(), 'pao-ws-')),
    secrets: { backstageToken: 'backstage-user-token' },
    user: { ref: 'user:default/jdoe' },
    task: { id: 'task-1' },
    step: { id: 'step-1', name: 'Step' },
    isDryRun: false,
    signal: new AbortController().signal,
    checkpoint: async ({ fn }: { fn: () => unknown }) => fn(),
    createTemporaryDirectory: async () => mkdtempSync(join(tmpdir(), 'pao-tmp-')),
    getInitiatorCredentials: async () => ({ $$type: '@backstage/BackstageCredentials', principal: { type: 'none' } }),
    ...extra,
  };
  return ctx;
}
