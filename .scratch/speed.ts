import { shippedLayouts, columnIndex } from '../src/activities/cards/layouts';
import { readRow, statusWords } from '../src/activities/cards/rows';
const l = shippedLayouts().get('courier-pickup')!;
const cols = columnIndex(l, ['ID','Card ID','User Mobile','Timestamp']);
const w = statusWords(l);
const t0 = process.hrtime.bigint();
const N = 50000;
for (let i = 0; i < N; i++) readRow([String(i), `CARD-${i}`, '501234567', `${String(1 + (i % 28)).padStart(2,'0')}-11-2023 ${String(1 + (i % 12)).padStart(2,'0')}:${String(i % 60).padStart(2,'0')}PM`], cols, l, w);
console.log('µs/row', Number(process.hrtime.bigint() - t0) / 1e3 / N);
