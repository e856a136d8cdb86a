import { parse } from 'csv-parse';
const text = 'ID,Card ID,"User\nMobile",Timestamp\r\n1,C1,"99 1",x\r\n2,C2,"a""b\nc",y\r\n3,C3,z,w\r\n';
const p = parse({ info: true, relax_column_count: true, bom: true });
p.on('data', (r: any) => console.log(JSON.stringify(r.record), r.info.bytes, r.info.lines, r.info.records, JSON.stringify(text.slice(0, r.info.bytes).slice(-6))));
p.write(Buffer.from(text)); p.end();
