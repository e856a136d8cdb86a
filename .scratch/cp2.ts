import { parse } from 'csv-parse';
const text = 'a,b\r\nçé,ü\r\nx,y\r\n';
for (const enc of ['utf8', 'latin1'] as const) {
const p = parse({ info: true, encoding: enc });
p.on('data', (r: any) => console.log(enc, JSON.stringify(r.record), r.info.bytes, r.info.lines));
p.write(Buffer.from(text, enc)); p.end();
}
