import { readFile } from 'node:fs/promises';

/**
 * Where a process's CPU went, from the `.cpuprofile` that `node --cpu-prof` writes at
 * exit: self time summed per package (node_modules/<name>), per source file of ours, or
 * per V8 category ((garbage collector), (idle), (program)), largest first.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface CpuShare {
  where: string;
  seconds: number;
  /** Share of the profile's samples, in percent. */
  percent: number;
}

function placeOf({ functionName, url }: ProfileNode['callFrame']): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage) return inPackage[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(src|bench|db)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

/** The profile's self time per place, the largest `top` places and the rest as "other". */
export async function summariseCpuProfile(path: string, top = 15): Promise<CpuShare[]> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const placeById = new Map(profile.nodes.map((node) => [node.id, placeOf(node.callFrame)]));
  const samplesByPlace = new Map<string, number>();
  for (const id of profile.samples) {
    const place = placeById.get(id) ?? '(unknown)';
    samplesByPlace.set(place, (samplesByPlace.get(place) ?? 0) + 1);
  }
  const secondsPerSample = (profile.endTime - profile.startTime) / 1e6 / Math.max(1, profile.samples.length);
  const shares = [...samplesByPlace.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([where, samples]) => ({ where, seconds: samples * secondsPerSample, percent: (100 * samples) / profile.samples.length }));
  const rest = shares.slice(top);
  return rest.length === 0 ? shares : [...shares.slice(0, top), { where: 'other', seconds: rest.reduce((sum, s) => sum + s.seconds, 0), percent: rest.reduce((sum, s) => sum + s.percent, 0) }];
}
