/**
 * The embedded synthetic data: `syntheticClicks({ world })` with world 'planted' (the default: C2AL's
 * premise holds by construction), 'null' (the same fields and cohorts with one click mechanism for all)
 * or 'legacy' (wave 1's generator). The planted and null worlds are described in planted-world.ts and
 * docs/c2al.md, the legacy one in legacy-world.ts.
 */
import { legacyWorld, type LegacyOptions } from './legacy-world.js';
import { plantedWorld } from './planted-world.js';
import { DataError, type ClickData } from './schema.js';

export const WORLDS = ['planted', 'null', 'legacy'] as const;
export type SyntheticWorld = (typeof WORLDS)[number];

export interface SyntheticOptions extends LegacyOptions {
  world?: SyntheticWorld;
}

export function syntheticClicks(opts: SyntheticOptions = {}): ClickData {
  const world = opts.world ?? 'planted';
  if (!WORLDS.includes(world)) throw new DataError(`--world must be one of ${WORLDS.join(', ')}, got '${world}'`);
  if (world === 'legacy') return legacyWorld(opts);
  return plantedWorld(world, opts.rows ?? 100_000, opts.seed ?? 1);
}
