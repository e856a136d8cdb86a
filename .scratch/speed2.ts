import { shippedLayouts } from '../src/activities/cards/layouts';
import { normalisePhone, parseEventTime } from '../src/activities/cards/rows';
import { containsPan } from '../src/activities/cards/pan';
const l = shippedLayouts().get('courier-pickup')!;
const N = 50000;
const time = (name: string, f: (i: number) => unknown) => { const t0 = process.hrtime.bigint(); for (let i = 0; i < N; i++) f(i); console.log(name, Number(process.hrtime.bigint() - t0) / 1e3 / N); };
time('phone', (i) => normalisePhone(`50${String(1000000 + i)}`, l));
time('date', (i) => parseEventTime(`${String(1 + (i % 28)).padStart(2,'0')}-11-2023 ${String(1 + (i % 12)).padStart(2,'0')}:${String(i % 60).padStart(2,'0')}PM`, l));
time('pan', (i) => [String(i), `CARD-${i}`, '501234567', '14-11-2023 12:00PM'].some(containsPan));
