import { useEffect, useState } from "preact/hooks";

import { Avatar } from "../common/Avatar";
import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { useShell } from "../shell/context";
import { DESCRIPTION_FIELD } from "../shell/model";

/**
 * Own profile: display name, avatar (any image, GIFs stay animated: we show the download,
 * not a thumbnail) and description (profile field `im.concord.description`, spec v1.16
 * "Profiles": custom fields via PUT /profile/{userId}/{keyName}).
 */
export function ProfileSettings(props: { onClose: () => void }) {
  const { actions, userId } = useShell();
  const [loaded, setLoaded] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [avatar, setAvatar] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [original, setOriginal] = useState<Record<string, unknown>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    actions.getProfile(userId).then(
      (p) => {
        setOriginal(p);
        setName(typeof p["displayname"] === "string" ? p["displayname"] : "");
        setDescription(typeof p[DESCRIPTION_FIELD] === "string" ? p[DESCRIPTION_FIELD] : "");
        setAvatar(typeof p["avatar_url"] === "string" ? p["avatar_url"] : null);
        setLoaded(true);
      },
      (err) => {
        setError(plain(err));
        setLoaded(true);
      },
    );
  }, [userId]);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    setError(null);
    try {
      if (name.trim() && name.trim() !== original["displayname"]) await actions.setProfileField("displayname", name.trim());
      if (description !== (original[DESCRIPTION_FIELD] ?? "")) await actions.setProfileField(DESCRIPTION_FIELD, description);
      if (file) {
        const url = await actions.upload(file);
        await actions.setProfileField("avatar_url", url);
        setAvatar(url);
        setFile(null);
      }
      setOriginal({ ...original, displayname: name.trim(), [DESCRIPTION_FIELD]: description });
      setSaved(true);
    } catch (err) {
      setError(plain(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title="Profile settings" onClose={props.onClose}>
      <form onSubmit={save}>
        <div class="profile-preview">
          <Avatar name={name || userId} url={actions.mediaUrl(avatar)} size={80} />
          <span>{userId}</span>
        </div>
        <label>
          Display name
          <input value={name} disabled={!loaded} maxLength={256} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Avatar
          <input type="file" accept="image/*" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <label>
          About me
          <textarea value={description} disabled={!loaded} maxLength={1000} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <ErrorText error={error} />
        {saved ? <p role="status">Saved.</p> : null}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || !loaded}>
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
