/** A `keel server`'s API as an admin script would use it: the first user, then JSON calls. */

export type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** Creates the server's first user (the owner, an admin) and returns its session token. */
export async function createOwner(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/users/first`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "owner", email: "o@example.com", password: "long password" }),
  });
  if (response.status !== 201) {
    throw new Error(`creating the owner: ${response.status} ${await response.text()}`);
  }
  return ((await response.json()) as { session_token: string }).session_token;
}

/** JSON calls under `/api/v1` with `token`; a status other than 2xx throws with the body. */
export function apiAs(url: string, token: string): Api {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}
