import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testService } from '../management/testing.js';
import { createSession, type ShellHost } from './index.js';

class AskingHost implements ShellHost {
  text = '';
  questions: string[] = [];
  constructor(private readonly answer: boolean) {}
  write(t: string): void { this.text += t; }
  async confirm(q: string): Promise<boolean> { this.questions.push(q); return this.answer; }
}

test('Remove-VM asks an interactive user first (ConfirmImpact High); -Force and -Confirm:$false do not', async () => {
  const svc = testService();
  try {
    const no = new AskingHost(false);
    const s = createSession(svc.controller, no);
    await s.run('New-VM A | Out-Null; New-VM B | Out-Null; New-VM C | Out-Null');
    await s.run('Remove-VM A');
    assert.equal(no.questions.length, 1);
    assert.match(no.questions[0], /Performing the operation "Remove-VM" on target "A"\./);
    await s.run('Remove-VM B -Force; Remove-VM C -Confirm:$false');
    assert.equal(no.questions.length, 1);
    no.text = '';
    await s.run('(Get-VM).Name');
    assert.equal(no.text, 'A\n');
    const yes = new AskingHost(true);
    await createSession(svc.controller, yes).run('Remove-VM A');
    assert.equal((await svc.controller.apply({ kind: 'GetVM' })).output.length, 0);
  } finally { await svc.dispose(); }
});

test('-Confirm without an interactive host is a clear error, not a hang', async () => {
  const svc = testService();
  try {
    let text = '';
    const s = createSession(svc.controller, { write: (t) => { text += t; } });
    await s.run('New-VM A -Confirm');
    assert.match(text, /^New-VM : PowerShell is in NonInteractive mode\. Read and Prompt functionality is not available\./);
    assert.equal((await svc.controller.apply({ kind: 'GetVM' })).output.length, 0);
  } finally { await svc.dispose(); }
});
