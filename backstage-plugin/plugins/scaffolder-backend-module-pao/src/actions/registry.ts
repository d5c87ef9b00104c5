import { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';
import { PaoActionDescriptor, PaoClient } from '../client';
import { readWorkspace, writeWorkspace } from '../workspace';
import { forwardedSecrets } from './requestCreate';

/**
 * One Backstage action for an action of PAO's registry. Its JSON Schemas pass through unchanged, so
 * Backstage validates the input exactly as PAO would; the run happens in PAO (remote invoke): the
 * step's workspace goes in, and the files the action writes come back into the workspace.
 */
export function createPaoRegistryAction(descriptor: PaoActionDescriptor, client: PaoClient): TemplateAction<any, any> {
  return {
    id: descriptor.id,
    description: `${descriptor.description ?? descriptor.id} (runs in PAO)`,
    examples: (descriptor.examples ?? []).map(e => ({ description: e.description, example: e.example })),
    supportsDryRun: descriptor.supportsDryRun ?? false,
    schema: {
      input: descriptor.schema?.input ?? { type: 'object' },
      output: descriptor.schema?.output ?? { type: 'object' },
    },
    async handler(ctx) {
      const files = await readWorkspace(ctx.workspacePath);
      const result = await client.invokeAction(
        descriptor.id,
        {
          input: ctx.input as JsonObject,
          secrets: forwardedSecrets(undefined, ctx.secrets as Record<string, string> | undefined),
          files,
          dryRun: ctx.isDryRun ?? false,
          attemptKey: ctx.task?.id ? `backstage:${ctx.task.id}:${ctx.step?.id ?? descriptor.id}` : undefined,
        },
        { onBehalfOf: ctx.user?.ref, signal: ctx.signal },
      );
      for (const line of result.logs) {
        const level = String(line.level ?? 'info').toLowerCase();
        if (level === 'error') ctx.logger.error(line.message);
        else if (level === 'warn' || level === 'warning') ctx.logger.warn(line.message);
        else if (level === 'debug') ctx.logger.debug(line.message);
        else ctx.logger.info(line.message);
      }
      if (result.files.length) {
        await writeWorkspace(ctx.workspacePath, result.files);
        ctx.logger.info(`${descriptor.id} wrote ${result.files.length} files into the workspace`);
      }
      for (const [name, value] of Object.entries(result.output)) ctx.output(name, value);
    },
  };
}

/** Ids that the module defines itself; a PAO registry action with one of them is not registered twice. */
export function registryActions(
  descriptors: PaoActionDescriptor[],
  client: PaoClient,
  reserved: Set<string>,
): TemplateAction<any, any>[] {
  return descriptors.filter(d => d.id && !reserved.has(d.id)).map(d => createPaoRegistryAction(d, client));
}
