// Uploads to POST /api/files (docs/files.md) with progress: fetch() cannot report upload
// progress, so this uses XMLHttpRequest. Errors are ApiErrors with the API's message
// ("Maximum message size exceeded" for 413).
import {ApiError} from "./api.js";
import {t} from "./i18n.js";

/** Upload one File; resolves with the stored file ({url, id, filename, ...}). */
export function uploadFile(api, file, {onProgress = () => {}} = {}) {
  const {url} = api.request("uploadFile", {});
  const form = new FormData();
  form.append("file", file, file.name || "upload.bin");
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && body.files && body.files[0]) resolve(body.files[0]);
      else reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, {errors: [{message: t("Could not reach Convos. Check your network connection.")}]})));
    xhr.addEventListener("abort", () => reject(new ApiError(0, {errors: [{message: t("The upload was stopped.")}]})));
    xhr.send(form);
  });
}
