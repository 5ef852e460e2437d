// How a client reads a verifier's refusal: the WWW-Authenticate challenges as oauth4webapi parses them.
import * as oauth from "oauth4webapi";
import { expect } from "vitest";

/**
 * The challenges of a 401/403 as a client parses them: oauth4webapi's protectedResourceRequest() (what a CLI calling
 * its API uses) rejects with a WWWAuthenticateChallengeError carrying the parsed challenges.
 */
export async function allChallenges(response: Response): Promise<oauth.WWWAuthenticateChallenge[]> {
  try {
    await oauth.protectedResourceRequest("t", "GET", new URL("https://api.example.test/me"), new Headers(), null, {
      [oauth.customFetch]: () => Promise.resolve(response),
    });
  } catch (error) {
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    return (error as oauth.WWWAuthenticateChallengeError).cause;
  }
  throw new Error("expected a challenge");
}
