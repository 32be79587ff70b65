/** The NVPD frame codec: round trips, and whatever the guest sends decodes or is refused — never throws. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameReader, FrameType, decodeHelloReply, decodeRequest, decodeResponse, encodeFrame, encodeHelloReply, encodeRequest, encodeResponse,
  type AgentItem, type AgentRequest,
} from './agent-protocol.js';

test('requests, responses and HELLO replies round-trip', () => {
  const req: AgentRequest = { route: ['L2'], pipeline: [
    { name: 'Get-NetAdapter', args: [['Name', ['vEthernet (VmNat)']]] },
    { name: 'New-NetIPAddress', args: [['IPAddress', '192.168.100.1'], ['PrefixLength', 24], ['Confirm', false], ['X', null], ['Big', -(2 ** 40)]] },
  ] };
  assert.deepEqual(decodeRequest(encodeRequest(req)), req);
  const items: AgentItem[] = [
    { kind: 'object', typeName: 'Microsoft.HyperV.PowerShell.VMSwitch', props: [['Name', 'VmNAT'], ['Servers', ['1.1.1.1']]] },
    { kind: 'error', message: 'é', category: 'InvalidArgument', fullyQualifiedErrorId: 'X,Y', activity: 'Get-VMSwitch', targetName: 'n', exceptionType: 'E' },
  ];
  assert.deepEqual(decodeResponse(encodeResponse(items)), items);
  assert.deepEqual(decodeHelloReply(encodeHelloReply({ agent: 'a', commands: ['Get-VMSwitch'] })), { agent: 'a', commands: ['Get-VMSwitch'] });
});

test('truncated or padded payloads are refused', () => {
  const p = encodeResponse([{ kind: 'object', typeName: 'T', props: [['a', 1]] }]);
  for (let n = 0; n < p.length; n++) assert.equal(decodeResponse(p.subarray(0, n)), null, `prefix ${n}`);
  assert.equal(decodeResponse(new Uint8Array([...p, 0])), null);
});

test('the frame reader reassembles split frames and stops at bytes that are not a frame', () => {
  const f = encodeFrame(FrameType.RESPONSE, 7, encodeResponse([]));
  const r = new FrameReader();
  assert.deepEqual(r.push(f.subarray(0, 5)), []);
  const out = r.push(new Uint8Array([...f.subarray(5), ...f]));
  assert.deepEqual(out.map((x) => x.id), [7, 7]);
  assert.deepEqual(r.push(new Uint8Array(16).fill(0x41)), []);
  assert.equal(r.desync, true);
});

test('random bytes never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
    decodeRequest(b); decodeResponse(b); decodeHelloReply(b);
    new FrameReader().push(b);
  }), { numRuns: 500 });
});
