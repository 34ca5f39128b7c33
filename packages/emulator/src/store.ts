/**
 * The emulator's durable state: one JSON document written atomically (temp file + rename) shortly after
 * each change, plus staged bytes on disk under `blobs/`. Shard item lists are large and immutable, so
 * each lives in its own file (`shards/<id>.json`) and is cached in memory once read.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';

type BatchType = 'simple-batch' | 'sharded-batch' | 'multipart-batch';

/** One stored file: bytes `[offset, offset + sizeBytes)` of `blob` (relative to the data dir). */
export interface ItemRecord {
  fileName: string;
  /** MIME type served in `FileMetadata.contentType` and on download. */
  contentType: string;
  kind: 'image' | 'video' | 'file';
  sizeBytes: number;
  blob: string;
  offset: number;
  partName?: string;
  shardId?: string;
  nestedContentType?: string;
}

export interface FailedFile {
  type: string;
  file_name: string;
  reason: string;
}

export interface PartRecord {
  partName: string;
  partType: string;
  contentType: string;
  partDescription: string;
  nestedContentType?: string;
}

export interface BatchRecord {
  batchId: string;
  displayName: string;
  batchType: BatchType;
  /** images | videos | mixed | metadata | archives */
  contentType: string;
  createdDate: string;
  expiryDate: string;
  /** Items of simple and multipart batches (sharded batches keep theirs per shard). */
  items: ItemRecord[];
  shardIds: string[];
  parts: PartRecord[];
}

export interface ShardRecord {
  shardId: string;
  batchId: string;
  source: 'tar' | 'references';
  createdAt: string;
  /** Items become visible (count, list, jobs) from this instant; null while the shard is still being filled. */
  indexAtMs: number | null;
  objectsCount: number;
  sizeBytes: number;
  failedFiles: FailedFile[];
  /** A shard whose ingest failed: its items never count. */
  error: { type: string; reason: string } | null;
  ingestId: string | null;
  notificationsURL: string | null;
  categories: string[];
  /** Whether the data-staging notifications for this shard were sent. */
  notified: boolean;
}

interface UploadRecord {
  uploadId: string;
  kind: 'shard' | 'video';
  batchId: string;
  fileName: string | null;
  createdAt: string;
  completed: boolean;
}

export interface IngestRecord {
  key: string;
  ingestId: string;
  batchId: string;
  kind: 'image' | 'video';
  shardIds: string[];
  createdAt: string;
  notificationsURL: string | null;
  categories: string[];
  /** Fetched and recorded (items visible after indexing). */
  fetched: boolean;
  /** Its ingest-status notification was sent. */
  notified: boolean;
  /** The references still to fetch (dropped once fetched). */
  pending: { name: string; url: string }[] | null;
  failedFiles: FailedFile[];
}

type TaskStatusType = 'info' | 'success' | 'error';

export interface TaskRecord {
  taskId: string;
  /** What the task reads: a shard, a range of a simple batch's items, or one processing output. */
  input:
    | { shardId: string }
    | { batchId: string; start: number; end: number; partName?: string }
    | { outputFile: string }
    | { device: string };
  statusType: TaskStatusType;
  progress: number | null;
  notification: Record<string, unknown>;
  eventTimestamp: string;
  itemsTotal: number;
  itemsDone: number;
  failures: number;
}

export interface StageRecord {
  stageId: string;
  name: 'processing' | 'export' | 'compilation';
  tasks: TaskRecord[];
  outputBatches: string[];
  startTimestamp: string;
  lastEventTimestamp: string;
  statusType: TaskStatusType;
  notification: Record<string, unknown>;
}

export interface LogRecord {
  createdAt: string;
  severity: 'info' | 'warning' | 'error';
  reportingModule: string;
  logType: string;
  payload: Record<string, unknown>;
  processingStageId?: string;
  taskId?: string;
}

export type JobFailureReason = 'oom' | 'timeout' | 'image-failures' | 'workflow-error';

export interface JobRecord {
  jobId: string;
  name: string;
  definition: Record<string, unknown>;
  /** Canonical JSON of the body, for idempotency. */
  definitionKey: string;
  createdAt: string;
  lastUpdate: string;
  phase: 'pending' | 'processing' | 'export' | 'compilation' | 'completed' | 'failed' | 'aborted';
  currentStage: string | null;
  plannedStages: string[];
  error: boolean;
  isTerminal: boolean;
  lastNotification: Record<string, unknown> | null;
  restartParametersOverride: Record<string, unknown>[];
  stages: StageRecord[];
  logs: LogRecord[];
  /** Bumped on abort/restart so a stale run loop stops. */
  generation: number;
  /** The failure fault in force for this run (snapshotted at start/restart). */
  injectedFailure: JobFailureReason | null;
  /** Malicious export fault in force for this run. */
  injectedExport: string | null;
  notified: boolean;
}

export interface EmulatorState {
  version: 1;
  signingSecret: string;
  seq: number;
  batches: Record<string, BatchRecord>;
  shards: Record<string, ShardRecord>;
  uploads: Record<string, UploadRecord>;
  ingests: Record<string, IngestRecord>;
  jobs: Record<string, JobRecord>;
  /** Batches deleted at their expiry: id → expiry date (so a 404 can say why). */
  expired?: Record<string, string>;
}

const emptyState = (): EmulatorState => ({
  version: 1,
  signingSecret: randomBytes(32).toString('hex'),
  seq: 0,
  batches: {},
  shards: {},
  uploads: {},
  ingests: {},
  jobs: {},
});

export class Store {
  readonly state: EmulatorState;
  private readonly shardItems = new Map<string, ItemRecord[]>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  private dirty = false;

  private constructor(
    readonly dataDir: string,
    state: EmulatorState,
    private readonly logger: Logger,
  ) {
    this.state = state;
  }

  static async open(dataDir: string, logger: Logger): Promise<Store> {
    await mkdir(join(dataDir, 'blobs'), { recursive: true });
    await mkdir(join(dataDir, 'shards'), { recursive: true });
    const file = join(dataDir, 'state.json');
    const fresh = !existsSync(file);
    const state = fresh ? emptyState() : (JSON.parse(readFileSync(file, 'utf8')) as EmulatorState);
    const store = new Store(dataDir, state, logger);
    if (fresh) {
      // Written at once so the signing secret (and so every issued URL) survives a restart.
      store.dirty = true;
      await store.flush();
    }
    return store;
  }

  /** A short unique id with a readable prefix (`s-000042-k3x9`). */
  nextId(prefix: string): string {
    this.state.seq += 1;
    return `${prefix}-${String(this.state.seq).padStart(6, '0')}-${randomBytes(2).toString('hex')}`;
  }

  abs(relative: string): string {
    return join(this.dataDir, relative);
  }

  /** Schedules an atomic save (coalesced: at most one write in flight, one pending). */
  changed(): void {
    this.dirty = true;
    if (this.saveTimer || this.saving) return;
    // Real time, not the emulator's clock: this only coalesces disk writes.
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush();
    }, 50);
  }

  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    while (this.saving) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    this.saving = this.write()
      .catch((err: unknown) => this.logger.error({ err }, 'could not save emulator state'))
      .finally(() => {
        this.saving = undefined;
        if (this.dirty) this.changed();
      });
    await this.saving;
  }

  private async write(): Promise<void> {
    const file = join(this.dataDir, 'state.json');
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.state));
    await rename(tmp, file);
  }

  async saveShardItems(shardId: string, items: ItemRecord[]): Promise<void> {
    const file = join(this.dataDir, 'shards', `${shardId}.json`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(items));
    await rename(`${file}.tmp`, file);
    this.shardItems.set(shardId, items);
  }

  /** Drops a shard's item list (memory and disk), when its batch is deleted. */
  async forgetShard(shardId: string): Promise<void> {
    this.shardItems.delete(shardId);
    await rm(join(this.dataDir, 'shards', `${shardId}.json`), { force: true });
  }

  async shardItemsOf(shardId: string): Promise<ItemRecord[]> {
    const cached = this.shardItems.get(shardId);
    if (cached) return cached;
    const file = join(this.dataDir, 'shards', `${shardId}.json`);
    const items = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as ItemRecord[]) : [];
    this.shardItems.set(shardId, items);
    return items;
  }
}
