#!/usr/bin/env node
// `npm run build`: tsc compiles TypeScript only; the data files that code reads at run
// time (issuer templates, partner layouts: *.yaml under src/) go to the same place in dist/
// (or in the folder given as the first argument, where tsc was told to write).
'use strict';
const { cpSync, readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const out = process.argv[2] ?? join(root, 'dist');
const ASSET = /\.ya?ml$/;

function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name)) cpSync(path, join(out, relative(root, path)));
  }
}
copy(join(root, 'src'));
