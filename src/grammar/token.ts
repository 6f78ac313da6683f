// RFC 9110 §5.6.2 token: the characters a header field name (and a cookie name, RFC 6265 §4.1.1)
// may have.

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}
