/**
 * Data Staging API shapes (roboflow-api.md §2). Responses accept at least what the official client's
 * pydantic models accept: unknown fields (zod strips them), the `status: "ok"` envelope or none, absent
 * optional fields, `null` where a model allows it, and any timestamp form (timestamp.ts).
 */
import { z } from 'zod';
import { Timestamp } from './timestamp.js';
const NextPageToken = z.string().nullish();
const Envelope = { status: z.string().optional() };

export const SignedUrlDetails = z.object({
  uploadURL: z.url(),
  extensionHeaders: z
    .record(z.string(), z.string())
    .nullish()
    .transform((h) => h ?? {}),
  method: z.string().optional(),
  maxFileSize: z.number().optional(),
});
export type SignedUrlDetails = z.infer<typeof SignedUrlDetails>;

export const SignedUrlResponse = z.object({ ...Envelope, signedURLDetails: SignedUrlDetails });
export type SignedUrlResponse = z.infer<typeof SignedUrlResponse>;

export const OkResponse = z.object({ ...Envelope }).loose();

export const Reference = z.object({ name: z.string().min(1), url: z.string().min(1) });
export type Reference = z.infer<typeof Reference>;

export const NotificationCategory = z.enum(['ingest-status', 'files-status']);

const ReferencesCommon = {
  ingestId: z.string().optional(),
  notificationsURL: z.string().optional(),
  notificationCategories: z.array(NotificationCategory).optional(),
};
export const ImageReferencesRequest = z.union([
  z.object({ imageReferences: z.array(Reference), ...ReferencesCommon }),
  z.object({ imageReferencesURL: z.string(), ...ReferencesCommon }),
]);
export type ImageReferencesRequest = z.infer<typeof ImageReferencesRequest>;
export const VideoReferencesRequest = z.union([
  z.object({ videoReferences: z.array(Reference), ...ReferencesCommon }),
  z.object({ videoReferencesURL: z.string(), ...ReferencesCommon }),
]);
export type VideoReferencesRequest = z.infer<typeof VideoReferencesRequest>;

export const ReferencesIngestResponse = z.object({
  ...Envelope,
  ingestId: z.string(),
  shardIds: z.array(z.string()).optional(),
  duplicated: z.boolean().optional(),
});
export type ReferencesIngestResponse = z.infer<typeof ReferencesIngestResponse>;

export const BatchType = z.string(); // simple-batch | sharded-batch | multipart-batch (open set)
export const BatchMetadata = z.object({
  displayName: z.string(),
  batchId: z.string(),
  batchType: BatchType,
  batchContentType: z.string(),
  createdDate: Timestamp,
  expiryDate: Timestamp,
});
export type BatchMetadata = z.infer<typeof BatchMetadata>;

export const ListBatchesResponse = z.object({
  ...Envelope,
  batches: z.array(BatchMetadata),
  nextPageToken: NextPageToken,
});
export const GetBatchResponse = z.object({ ...Envelope, batch: BatchMetadata });
export const CountResponse = z.object({ ...Envelope, count: z.number().int().min(0) });

export const ShardDetails = z.object({
  shardId: z.string(),
  statusName: z.string(),
  statusType: z.string(),
  eventTimestamp: Timestamp,
  shardObjectsCount: z.number().int(),
  isTerminal: z.boolean().nullish(),
  statusMetadata: z.record(z.string(), z.unknown()).nullish(),
});
export type ShardDetails = z.infer<typeof ShardDetails>;
export const ListShardsResponse = z.object({
  ...Envelope,
  shards: z.array(ShardDetails),
  nextPageToken: NextPageToken,
});

export const BatchPart = z.object({
  partName: z.string(),
  partType: z.string(),
  contentType: z.string(),
  partDescription: z.string().nullish(),
  nestedContentType: z.string().nullish(),
});
export type BatchPart = z.infer<typeof BatchPart>;
export const ListPartsResponse = z.object({ ...Envelope, batchParts: z.array(BatchPart) });

export const FileMetadata = z.object({
  downloadURL: z.url(),
  fileName: z.string().min(1),
  contentType: z.string(),
  partName: z.string().nullish(),
  shardId: z.string().nullish(),
  nestedContentType: z.string().nullish(),
});
export type FileMetadata = z.infer<typeof FileMetadata>;
export const ListFilesResponse = z.object({
  ...Envelope,
  filesMetadata: z.array(FileMetadata),
  nextPageToken: NextPageToken,
});

/** `GET /?api_key=` (workspace discovery). */
export const WorkspaceResponse = z.object({ workspace: z.string().min(1) });

/** Error bodies seen in the wild: `{error}`, `{message}`, `{error:{message}}`. */
export const ErrorBody = z.union([
  z.object({ error: z.string() }),
  z.object({ message: z.string() }),
  z.object({ error: z.object({ message: z.string() }) }),
]);
