#!/usr/bin/env node
// The `dkv` command (daemon with no arguments, client otherwise): runs the TypeScript sources through tsx's loader, so the
// package needs no build step to run.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
