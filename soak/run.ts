// `npm run soak`: snapshot reloads under live connections, then upstream faults. SOAK_SCALE
// multiplies the counts (default 1: 1,000 reloads under 100 connections, 30 fault rounds).
import { soakFaults } from './faults.ts';
import { soakReloads } from './reloads.ts';

const scale = Number(process.env.SOAK_SCALE ?? 1);
const reloads = await soakReloads(Math.round(1000 * scale), Math.max(1, Math.round(100 * Math.min(scale, 1))));
console.log('reloads', JSON.stringify(reloads));
const faults = await soakFaults(Math.max(1, Math.round(30 * scale)));
console.log('faults', JSON.stringify(faults));
if (reloads.lost > 0 || reloads.dropped > 0 || !reloads.servingAfterReloads || faults.unexpected.length > 0) process.exitCode = 1;
