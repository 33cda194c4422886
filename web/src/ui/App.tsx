export function App() {
  return <main>Concord</main>;
}
