// Attachments: upload with progress (spec: client-server "Content repository",
// POST /_matrix/media/v3/upload) and the message that points at the upload.
// fetch() cannot report upload progress, so the upload goes through XMLHttpRequest.

import type { MatrixClient } from "./client";
import { fileContent, type FileInfo } from "./content";
import { MatrixError, NETWORK_ERROR, errorMessage, parseResponse } from "./http";
import { newTxnId, pendingFiles, sendWithEcho } from "./messages";
import { addEcho, echoFailed } from "./reduce";

export interface UploadOptions {
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
  /** For tests: an XMLHttpRequest-compatible object. */
  xhr?: () => XMLHttpRequest;
}

/** Upload a blob; resolves to its mxc:// URI. Errors are MatrixErrors in plain words. */
export function upload(client: MatrixClient, blob: Blob, filename: string, opts: UploadOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = opts.xhr ? opts.xhr() : new XMLHttpRequest();
    const url = `${client.http.baseUrl}/_matrix/media/v3/upload?filename=${encodeURIComponent(filename)}`;
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${client.session.accessToken}`);
    xhr.setRequestHeader("Content-Type", blob.type || "application/octet-stream");
    xhr.upload.onprogress = (ev: ProgressEvent) => {
      opts.onProgress?.(ev.loaded, ev.lengthComputable ? ev.total : blob.size);
    };
    xhr.onload = () => {
      const response = new Response(xhr.responseText, { status: xhr.status || 500 });
      parseResponse<{ content_uri?: string }>(response)
        .then((body) => {
          if (typeof body.content_uri !== "string") throw new MatrixError(500, "M_UNKNOWN", "The server gave no content URI");
          opts.onProgress?.(blob.size, blob.size);
          resolve(body.content_uri);
        })
        .catch(reject);
    };
    xhr.onerror = () => reject(new MatrixError(0, NETWORK_ERROR, "upload failed"));
    xhr.onabort = () => reject(new MatrixError(0, "CONCORD_ABORTED", "upload cancelled"));
    opts.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(blob);
  });
}

/** Width/height of an image, duration of audio/video, read in the browser (best effort). */
export async function readMediaInfo(file: File): Promise<FileInfo> {
  const info: FileInfo = { name: file.name, mimetype: file.type || "application/octet-stream", size: file.size };
  if (typeof URL === "undefined" || typeof document === "undefined") return info;
  const url = URL.createObjectURL(file);
  try {
    if (info.mimetype.startsWith("image/")) {
      const img = new Image();
      await new Promise<void>((resolve) => {
        img.onload = () => resolve();
        img.onerror = () => resolve();
        img.src = url;
      });
      if (img.naturalWidth) {
        info.width = img.naturalWidth;
        info.height = img.naturalHeight;
      }
    } else if (info.mimetype.startsWith("audio/") || info.mimetype.startsWith("video/")) {
      const el = document.createElement(info.mimetype.startsWith("audio/") ? "audio" : "video");
      await new Promise<void>((resolve) => {
        el.onloadedmetadata = () => resolve();
        el.onerror = () => resolve();
        setTimeout(resolve, 3000);
        el.preload = "metadata";
        el.src = url;
      });
      if (Number.isFinite(el.duration)) info.durationMs = el.duration * 1000;
      if (el instanceof HTMLVideoElement && el.videoWidth) {
        info.width = el.videoWidth;
        info.height = el.videoHeight;
      }
    }
  } finally {
    URL.revokeObjectURL(url);
  }
  return info;
}

export interface SendFileOptions {
  replyTo?: { eventId: string; sender: string };
  /** Known metadata (defaults: name, type and size of the blob). */
  info?: Partial<FileInfo>;
  xhr?: () => XMLHttpRequest;
}

/**
 * Send a file as a message. A local echo appears at once; upload progress is published
 * in `client.store.uploads[txnId]`; a failed upload or send leaves a "failed" echo that
 * `retrySend` (messages.ts) retries — re-uploading if the upload itself failed.
 */
export async function sendFile(client: MatrixClient, roomId: string, blob: Blob, name: string, opts: SendFileOptions = {}): Promise<string> {
  const info: FileInfo = { name, mimetype: blob.type || "application/octet-stream", size: blob.size, ...opts.info };
  const txnId = newTxnId(client.now());
  const setProgress = (loaded: number, total: number) => {
    client.store.uploads.value = { ...client.store.uploads.value, [txnId]: { loaded, total } };
  };
  const clearProgress = () => {
    const { [txnId]: _done, ...rest } = client.store.uploads.value;
    void _done;
    client.store.uploads.value = rest;
  };
  const attempt = async (): Promise<string> => {
    const draft = fileContent(info, undefined, opts.replyTo);
    client.store.update((s) => addEcho(s, roomId, { txnId, type: "m.room.message", content: draft, status: "sending", ts: client.now() }));
    setProgress(0, blob.size);
    let url: string;
    try {
      url = await upload(client, blob, name, { onProgress: setProgress, xhr: opts.xhr });
    } catch (err) {
      client.store.update((s) => echoFailed(s, roomId, txnId, errorMessage(err)));
      clearProgress();
      throw err;
    }
    clearProgress();
    const files = pendingFiles.get(client);
    files?.delete(txnId);
    return sendWithEcho(client, roomId, "m.room.message", fileContent(info, url, opts.replyTo), txnId);
  };
  const files = pendingFiles.get(client) ?? new Map<string, () => Promise<string>>();
  pendingFiles.set(client, files);
  files.set(txnId, attempt);
  return attempt();
}
