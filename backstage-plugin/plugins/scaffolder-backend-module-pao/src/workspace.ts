import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { serializeDirectoryContents } from '@backstage/plugin-scaffolder-node';
import { PaoFile } from './client';

/** Larger workspaces are refused rather than shipped to PAO on every step. */
export const MAX_WORKSPACE_BYTES = 50 * 1024 * 1024;

/** The step's workspace as PAO's file entries (path relative to the workspace, base64 content). */
export async function readWorkspace(workspacePath: string): Promise<PaoFile[]> {
  const files = await serializeDirectoryContents(workspacePath, { gitignore: false });
  let total = 0;
  const entries: PaoFile[] = [];
  for (const file of files) {
    if (file.symlink) continue; // PAO actions get regular files; links stay in the Backstage workspace
    total += file.content.length;
    if (total > MAX_WORKSPACE_BYTES) {
      throw new Error(
        `The workspace ${workspacePath} holds more than ${MAX_WORKSPACE_BYTES} bytes; PAO actions get the whole workspace, so remove large files (fs:delete) before this step`,
      );
    }
    entries.push({ path: file.path, base64Content: file.content.toString('base64'), executable: file.executable });
  }
  return entries;
}

/** Writes the files a PAO action returned into the workspace (paths cannot escape it; modes kept). */
export async function writeWorkspace(workspacePath: string, files: PaoFile[]): Promise<void> {
  for (const file of files) {
    const target = resolveSafeChildPath(workspacePath, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, Buffer.from(file.base64Content, 'base64'));
    await chmod(target, file.executable ? 0o755 : 0o644);
  }
}
