import { useState } from "preact/hooks";

import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { openChannel, useShell } from "../shell/context";
import type { Guild } from "../shell/model";

export function CreateChannelDialog(props: { guild: Guild; category: string | null; onClose: () => void }) {
  const { actions } = useShell();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"text" | "voice">("text");
  const [category, setCategory] = useState<string | null>(props.category);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give the channel a name.");
      return;
    }
    setBusy(true);
    try {
      const made = await actions.createChannel(props.guild.roomId, name.trim(), kind, category);
      openChannel(props.guild.roomId, made.room_id);
      props.onClose();
    } catch (err) {
      setError(plain(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title="Create channel" onClose={props.onClose}>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Channel type</legend>
          <label class="inline">
            <input type="radio" name="kind" checked={kind === "text"} onChange={() => setKind("text")} /> Text
          </label>
          <label class="inline">
            <input type="radio" name="kind" checked={kind === "voice"} onChange={() => setKind("voice")} /> Voice
          </label>
        </fieldset>
        <label>
          Channel name
          <input value={name} maxLength={100} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Category
          <select value={category ?? ""} onChange={(e) => setCategory(e.currentTarget.value || null)}>
            <option value="">No category</option>
            {props.guild.categories.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <ErrorText error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Create channel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
