/** Any failure in plain words for the user (MatrixError messages are already plain). */
export function plain(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong. Please try again.";
}
