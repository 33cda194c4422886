/**
 * Uploads with progress and the message content that shows the file.
 *
 * fetch() reports no upload progress, so the upload goes through XMLHttpRequest
 * (spec: client-server "Content repository", POST /_matrix/media/v3/upload).
 */

export class UploadError extends Error {}

export function uploadWithProgress(
  baseUrl: string,
  accessToken: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const url = `${baseUrl}/_matrix/media/v3/upload?filename=${encodeURIComponent(file.name)}`;
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${accessToken}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new UploadError("The upload failed: the server could not be reached."));
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText) as Record<string, unknown>;
      } catch {
        /* not JSON: handled below */
      }
      if (xhr.status === 200 && typeof body["content_uri"] === "string") {
        onProgress(1);
        resolve(body["content_uri"]);
      } else if (xhr.status === 413 || body["errcode"] === "M_TOO_LARGE") {
        reject(new UploadError(`${file.name} is too large for this server.`));
      } else {
        const why = typeof body["error"] === "string" ? body["error"] : `error ${xhr.status}`;
        reject(new UploadError(`The upload of ${file.name} failed (${why}).`));
      }
    };
    xhr.send(file);
  });
}

/** The msgtype a file is sent as (spec: client-server "m.room.message msgtypes"). */
export function msgtypeFor(mimetype: string): string {
  if (mimetype.startsWith("image/")) return "m.image";
  if (mimetype.startsWith("audio/")) return "m.audio";
  if (mimetype.startsWith("video/")) return "m.video";
  return "m.file";
}

/** Width and height of an image file, when the browser can decode it. */
export function imageSize(file: File): Promise<{ w: number; h: number } | undefined> {
  if (!file.type.startsWith("image/")) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      resolve({ w: img.naturalWidth, h: img.naturalHeight });
      URL.revokeObjectURL(url);
    };
    img.onerror = () => {
      resolve(undefined);
      URL.revokeObjectURL(url);
    };
    img.src = url;
  });
}

export function fileContent(file: File, mxc: string, size?: { w: number; h: number }): Record<string, unknown> {
  const mimetype = file.type || "application/octet-stream";
  const info: Record<string, unknown> = { mimetype, size: file.size };
  if (size) Object.assign(info, size);
  return { msgtype: msgtypeFor(mimetype), body: file.name, filename: file.name, url: mxc, info };
}
