/**
 * Reads a PDF the way a person would see it: pdf.js (pdfjs-dist, pinned) opens it, with
 * the password when it is encrypted, and each page's text comes back as lines, top to
 * bottom, the items of a line joined left to right by single spaces. Invoice templates
 * match on these lines; the statement tests read their own PDFs back with it.
 */

interface TextItem {
  str: string;
  transform: number[];
}

export class PdfPasswordError extends Error {}

export async function pdfLines(data: Buffer, password?: string): Promise<string[][]> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const task = pdfjs.getDocument({ data: new Uint8Array(data), password, isEvalSupported: false, useSystemFonts: false, verbosity: 0 });
  let pdf;
  try {
    pdf = await task.promise;
  } catch (err) {
    if ((err as { name?: string }).name === 'PasswordException') throw new PdfPasswordError((err as Error).message);
    throw err;
  }
  const pages: string[][] = [];
  for (let number = 1; number <= pdf.numPages; number++) {
    const content = await (await pdf.getPage(number)).getTextContent();
    const rows = new Map<number, Array<{ x: number; text: string }>>();
    for (const item of content.items as TextItem[]) {
      if (item.str.trim() === '') continue;
      const y = Math.round(item.transform[5] as number);
      rows.set(y, [...(rows.get(y) ?? []), { x: item.transform[4] as number, text: item.str.trim() }]);
    }
    pages.push(
      [...rows.entries()]
        .sort(([a], [b]) => b - a)
        .map(([, items]) => items.sort((a, b) => a.x - b.x).map((i) => i.text).join(' ')),
    );
  }
  await pdf.destroy();
  return pages;
}
