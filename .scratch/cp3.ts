import { parse } from 'csv-parse';
const text = 'H1,H2\r\n1,"a\r\nb"\r\n2,c\r\n3,d\r\n';
const p = parse({ info: true, raw: true, bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true });
p.on('data', (r: any) => console.log(JSON.stringify(r.record), r.info.bytes, r.info.lines));
p.write(Buffer.from(text)); p.end();
const p2 = parse({ info: true, raw: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true });
p2.on('data', (r: any) => console.log('p2', JSON.stringify(r.record), r.info.bytes, r.info.lines));
p2.write(Buffer.from('2,c\r\n3,d\r\n')); p2.end();
