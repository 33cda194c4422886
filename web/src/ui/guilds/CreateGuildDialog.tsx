import { useState } from "preact/hooks";

import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { openGuild, useShell } from "../shell/context";

export function CreateGuildDialog(props: { onClose: () => void }) {
  const { actions } = useShell();
  const [name, setName] = useState("");
  const [image, setImage] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give your guild a name.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const avatar = image ? await actions.upload(image) : null;
      const { room_id } = await actions.createGuild(name.trim(), avatar);
      openGuild(room_id);
      props.onClose();
    } catch (err) {
      setError(plain(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title="Create a guild" onClose={props.onClose}>
      <form onSubmit={submit}>
        <label>
          Guild name
          <input value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
        </label>
        <label>
          Guild image
          <input type="file" accept="image/*" onChange={(e) => setImage(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <ErrorText error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Creating…" : "Create"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
