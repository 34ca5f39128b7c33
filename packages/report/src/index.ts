export { REPORT_FILE, writeReport, type WriteReportOptions, type WrittenReport } from './write-report.js';
