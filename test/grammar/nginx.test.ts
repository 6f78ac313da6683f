import { test } from 'node:test';
import { parseNginxBackendProtocol, parseNginxBalance, parseNginxHashBy, parseNginxSeconds } from '../../src/grammar/nginx.ts';
import { REFUSED, expectTable } from './support.ts';

test('ingress-nginx values read as the wsgate values they stand for', () => {
  expectTable(parseNginxSeconds, [['3600', '1h'], ['90', '90s'], ['60s', REFUSED], ['0', REFUSED], ['1.5', REFUSED]]);
  expectTable(parseNginxHashBy, [
    ['$http_x_user_id', 'header:x-user-id'], ['$cookie_Sid', 'cookie:Sid'], ['$arg_room', 'query:room'], ['$remote_addr', 'client-ip'],
    ['$request_uri', REFUSED], ['$http_', REFUSED], ['$http_a b', REFUSED],
  ]);
  expectTable(parseNginxBalance, [['round_robin', 'round-robin'], ['ewma', 'least-conn'], ['chash', REFUSED], ['round-robin', REFUSED]]);
  expectTable(parseNginxBackendProtocol, [['HTTPS', true], ['https', true], ['HTTP', false], ['GRPC', REFUSED]]);
});
