// The console's entry: a login form, then one page per view chosen by the URL
// hash (#overview, #clients, #streams, #kv, #objects, #tap, #kafka, #links), pages
// below them with their arguments (#client/<cid>, #stream/<name>), and a link
// to /docs.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { authorizationOf, login, logout } from './api.ts';
import { ClientDetail } from './client-detail.tsx';
import { Clients } from './clients.tsx';
import { Kafka } from './kafka.tsx';
import { Kv } from './kv.tsx';
import { Links } from './links.tsx';
import { Objects } from './objects.tsx';
import { Overview } from './overview.tsx';
import { StreamDetail } from './stream-detail.tsx';
import { Streams } from './streams.tsx';
import { Tap } from './tap.tsx';
import './console.css';

type ViewComponent = (props: { args: string[] }) => preact.JSX.Element;

/** The views in the navigation bar, in order. */
const VIEWS: Record<string, [string, ViewComponent]> = {
  overview: ['Overview', Overview],
  clients: ['Clients', Clients],
  streams: ['Streams', Streams],
  kv: ['KV', Kv],
  objects: ['Objects', Objects],
  tap: ['Subject tap', Tap],
  kafka: ['Kafka', Kafka],
  links: ['Links', Links],
};
/** Pages reached from a view, with the view whose tab stays lit. */
const PAGES: Record<string, [string, ViewComponent]> = {
  client: ['clients', ClientDetail],
  stream: ['streams', StreamDetail],
};

interface Route {
  name: string;
  args: string[];
}

function routeOfHash(): Route {
  const [name = '', ...args] = location.hash.slice(1).split('/').map(decodeURIComponent);
  return name in VIEWS || name in PAGES ? { name, args } : { name: 'overview', args: [] };
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
  const [route, setRoute] = useState<Route>(routeOfHash());
  useEffect(() => {
    const follow = (): void => setRoute(routeOfHash());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  if (user === null) return <Login onLogin={setUser} />;
  const page = PAGES[route.name];
  const lit = page === undefined ? route.name : page[0];
  const Shown = page === undefined ? VIEWS[route.name][1] : page[1];
  return (
    <div class="shell">
      <nav>
        <b>Switchboard</b>
        {Object.entries(VIEWS).map(([name, [label]]) => (
          <a href={`#${name}`} class={name === lit ? 'active' : ''}>{label}</a>
        ))}
        <a href="/docs" target="_blank">API docs</a>
        <span class="user" data-testid="user">{user}</span>
        <button onClick={() => void logout().then(() => setUser(null))}>Log out</button>
      </nav>
      {/* keyed by the route: a page's state never carries over to another client or stream */}
      <main><Shown key={location.hash} args={route.args} /></main>
    </div>
  );
}

render(<App />, document.getElementById('root')!);
