import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { DATA_PLANE_V8_FLAGS, withDataPlaneFlags } from '../../src/runtime/v8-flags.ts';

test('workers get the data-plane V8 flags, and a value the operator gave node wins', () => {
  assert.deepEqual(withDataPlaneFlags([]), [...DATA_PLANE_V8_FLAGS]);
  assert.deepEqual(withDataPlaneFlags(['--max-semi-space-size=8', '--inspect']), ['--max-semi-space-size=8', '--inspect', '--initial-old-space-size=64']);
  assert.deepEqual(withDataPlaneFlags(['--initial-old-space-size=16', '--max-semi-space-size=8']), ['--initial-old-space-size=16', '--max-semi-space-size=8']);
});

test('the flags take effect on node\'s command line: the young generation stays small under garbage', () => {
  const script = "let k=[];for(let i=0;i<2e6;i++){k.push({i});if(k.length>1e4)k=[]}const s=require('v8').getHeapSpaceStatistics().find(x=>x.space_name==='new_space');console.log(s.space_size)";
  const size = (flags: readonly string[]): number => Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
  assert.ok(size(DATA_PLANE_V8_FLAGS) * 4 <= size([]), 'at least four times smaller than the default');
});
