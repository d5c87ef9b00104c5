import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSse } from './sse';

async function collect(chunks: string[]) {
  async function* source() {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  const out = [];
  for await (const message of parseSse(source())) out.push(message);
  return out;
}

test('events split across chunks are reassembled with their id and type', async () => {
  const messages = await collect(['id: 4\nevent: lo', 'g\ndata: {"a":', '1}\n', '\n']);
  assert.deepEqual(messages, [{ id: '4', event: 'log', data: '{"a":1}' }]);
});

test('comments and keep-alives without data are not yielded', async () => {
  const messages = await collect([': keep-alive\n\n', 'event: ping\n\n', 'data: x\n\n']);
  assert.deepEqual(messages, [{ id: undefined, event: 'message', data: 'x' }]);
});

test('multi-line data is joined with newlines and CRLF framing is accepted', async () => {
  const messages = await collect(['event: log\r\ndata: one\r\ndata: two\r\n\r\n']);
  assert.deepEqual(messages, [{ id: undefined, event: 'log', data: 'one\ntwo' }]);
});

test('a last event without the closing blank line still counts', async () => {
  const messages = await collect(['data: tail']);
  assert.equal(messages[0].data, 'tail');
});
