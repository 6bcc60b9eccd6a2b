// The console's entry: a login form, then one page per view chosen by the URL
// hash (#overview, #clients, #streams, #kv, #tap), and a link to /docs.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { authorizationOf, login, logout } from './api.ts';
import { Clients } from './clients.tsx';
import { Kv } from './kv.tsx';
import { Overview } from './overview.tsx';
import { Streams } from './streams.tsx';
import { Tap } from './tap.tsx';
import './console.css';

const VIEWS = { overview: ['Overview', Overview], clients: ['Clients', Clients], streams: ['Streams', Streams], kv: ['KV', Kv], tap: ['Subject tap', Tap] } as const;
type View = keyof typeof VIEWS;

function viewOfHash(): View {
  const name = location.hash.slice(1);
  return name in VIEWS ? (name as View) : 'overview';
}

function Login({ onLogin }: { onLogin: (user: string) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      onLogin(await login(authorizationOf(user, password, token)));
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>Switchboard</h1>
      <label>User <input name="user" autocomplete="username" value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} /></label>
      <label>or token <input name="token" type="password" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Log in</button>
      <p class="error" data-testid="login-error">{error}</p>
      <p><a href="/docs">HTTP API docs</a></p>
    </form>
  );
}

function App() {
  const [user, setUser] = useState<string | null>(null);
  const [view, setView] = useState<View>(viewOfHash());
  useEffect(() => {
    const follow = (): void => setView(viewOfHash());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  if (user === null) return <Login onLogin={setUser} />;
  const Shown = VIEWS[view][1];
  return (
    <div class="shell">
      <nav>
        <b>Switchboard</b>
        {(Object.keys(VIEWS) as View[]).map((name) => (
          <a href={`#${name}`} class={name === view ? 'active' : ''}>{VIEWS[name][0]}</a>
        ))}
        <a href="/docs" target="_blank">API docs</a>
        <span class="user" data-testid="user">{user}</span>
        <button onClick={() => void logout().then(() => setUser(null))}>Log out</button>
      </nav>
      <main><Shown /></main>
    </div>
  );
}

render(<App />, document.getElementById('root')!);
