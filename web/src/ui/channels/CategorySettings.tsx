import { useState } from "preact/hooks";

import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { useShell } from "../shell/context";
import type { Guild } from "../shell/model";

/**
 * Rename or delete a category (PUT / DELETE .../categories/{id}). Deleting keeps its
 * channels: the server moves them out of any category, keeping their own order.
 */
export function CategorySettings(props: { guild: Guild; categoryId: string; onClose: () => void }) {
  const { actions } = useShell();
  const category = props.guild.categories.find((c) => c.id === props.categoryId);
  const [name, setName] = useState(category?.name ?? "");
  const [error, setError] = useState<string | null>(null);
  if (!category) return null;
  const save = (e: Event) => {
    e.preventDefault();
    if (!name.trim()) {
      setError("A category needs a name.");
      return;
    }
    actions.updateCategory(props.guild.roomId, category.id, { name: name.trim() }).then(props.onClose, (err) => setError(plain(err)));
  };
  const remove = () =>
    actions.deleteCategory(props.guild.roomId, category.id).then(props.onClose, (err) => setError(plain(err)));
  return (
    <Dialog title={`Category settings: ${category.name}`} onClose={props.onClose}>
      <form onSubmit={save}>
        <label>
          Category name
          <input value={name} maxLength={100} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <p class="hint">Deleting a category keeps its channels; they move above the categories.</p>
        <ErrorText error={error} />
        <div class="actions">
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete category
          </button>
          <button type="submit" class="primary">
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
