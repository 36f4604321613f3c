export function App() {
  return <main>Switchboard</main>
}
