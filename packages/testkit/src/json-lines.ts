/**
 * Log lines checked the way a strict collector reads them: each line one JSON object, and no object
 * with a key twice (JSON.parse keeps the last one silently, so it cannot tell).
 */

/** The keys of every object in `text` that appear more than once in it (e.g. `jobId`). */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const key = str();
        if (keys.has(key)) found.push(key);
        keys.add(key);
        ws();
        i++; // :
        value();
        ws();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') return void str();
    while (i < text.length && !',}] \t\n\r'.includes(text[i] ?? '')) i++;
  };
  value();
  return found;
}

/**
 * Every non-empty line of `stream` that is not one JSON object with unique keys, with why; empty
 * when the whole stream is clean JSON lines.
 */
export function badJsonLines(stream: string): string[] {
  const bad: string[] = [];
  for (const line of stream.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      bad.push(`not JSON: ${line.slice(0, 200)}`);
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      bad.push(`not an object: ${line.slice(0, 200)}`);
      continue;
    }
    const dups = duplicateKeys(line);
    if (dups.length) bad.push(`keys ${dups.join(', ')} twice: ${line.slice(0, 300)}`);
  }
  return bad;
}
