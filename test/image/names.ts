// Names the image check and its builder share: the repository, and the image reference the Helm
// chart deploys by default (values.yaml image.repository : Chart.yaml appVersion), which is the
// tag the test builds, so `kind load` of that build is what the chart's pods run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const repoRoot = new URL('../..', import.meta.url).pathname;

export function expectedImageName(): string {
  const values = YAML.parse(readFileSync(join(repoRoot, 'charts/wsgate/values.yaml'), 'utf8')) as { image: { repository: string; tag?: string } };
  const chart = YAML.parse(readFileSync(join(repoRoot, 'charts/wsgate/Chart.yaml'), 'utf8')) as { appVersion: string };
  return `${values.image.repository}:${values.image.tag || chart.appVersion}`;
}
