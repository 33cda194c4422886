// Everything the UI can do, in one import (each function takes the MatrixClient first).
// Failures throw MatrixError; `errorMessage(err)` gives the plain words to show.

export * from "./account";
export * from "./concord";
export * from "./content";
export * from "./media";
export * from "./messages";
