/** Serialises result records as JSONL (one object a line) or CSV (header + one row a record). */
import type { ResultRecord } from './analyse.js';

export type AggregationFormat = 'jsonl' | 'csv';

const CSV_COLUMNS = [
  'file_name',
  'format',
  'width',
  'height',
  'size_bytes',
  'sha256',
  'predictions',
  'error',
  'frame_index',
  'frame_timestamp_s',
  'synthetic',
  'workflow_id',
  'emulated',
] as const;

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\n`;
}

export function formatRecord(record: ResultRecord, format: AggregationFormat): string {
  if (format === 'jsonl') return `${JSON.stringify(record)}\n`;
  return `${CSV_COLUMNS.map((c) => csvCell(record[c])).join(',')}\n`;
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
