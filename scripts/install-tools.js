#!/usr/bin/env node
// postinstall: installs the pinned Temporal binaries and stripe-mock into .tools/ when not
// found (see src/tools/binaries.ts). Plain JS so it runs before anything is built;
// FINFLOW_SKIP_TOOLS=1 (Docker images, which talk to a real cluster) skips it.
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

if (process.env.FINFLOW_SKIP_TOOLS === '1') process.exit(0);
const root = join(__dirname, '..');
const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/tools/install.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
