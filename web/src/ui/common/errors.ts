// Any failure in plain words for the user: web/src/matrix's errorMessage (MatrixErrors
// already carry plain words; anything else gets a generic sentence).
export { errorMessage as plain } from "../../matrix";
