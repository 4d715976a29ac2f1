// Per-backend caches of what the engine has: images (inspected, pulled once if missing) and the
// named volumes clnrm created. A failed lookup is not cached.
import { ContainerError } from "@clnrm/core";
import type Dockerode from "dockerode";
import type { ContainerRuntimeClient } from "testcontainers";
import { loadTestcontainers } from "./deps.js";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { labelsFor } from "./labels.js";
import { firstLine, isGone } from "./util.js";

function memo<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = make();
    p.catch(() => map.delete(key));
    map.set(key, p);
  }
  return p;
}

export class ImageCache {
  readonly #images = new Map<string, Promise<Dockerode.ImageInspectInfo>>();

  /** Image inspect, cached per image. Pulls once if missing; throws a one-line error if that fails. */
  inspect(client: ContainerRuntimeClient, image: string): Promise<Dockerode.ImageInspectInfo> {
    return memo(this.#images, image, async () => {
      const docker = client.container.dockerode;
      try {
        return await docker.getImage(image).inspect();
      } catch (err) {
        if (engineUnreachable(err)) throw engineWentAway(err);
        if (!isGone(err)) throw err;
      }
      try {
        const { ImageName } = await loadTestcontainers();
        await client.image.pull(ImageName.fromString(image), { force: true, platform: undefined });
        return await docker.getImage(image).inspect();
      } catch (err) {
        throw new ContainerError(`image '${image}' not found locally and could not be pulled: ${firstLine(err)}`, {
          code: "CLNRM_ERR_IMAGE_NOT_FOUND",
          hint: "build it, or check the name",
          environment: true,
          cause: err,
        });
      }
    });
  }
}

export class VolumeCache {
  readonly #volumes = new Map<string, Promise<void>>();

  /** Creates a missing named volume, labelled with the creating run (for `sweep`) and the spec's labels (e.g. clnrm.keep). */
  ensure(docker: Dockerode, name: string, labels: Record<string, string> | undefined, runId: string): Promise<void> {
    return memo(this.#volumes, name, async () => {
      try {
        await docker.getVolume(name).inspect();
      } catch (err) {
        if (!isGone(err)) throw err;
        await docker.createVolume({ Name: name, Labels: { ...labels, ...labelsFor(runId) } });
      }
    });
  }

  /** The volume was removed: the next `ensure` creates it again. */
  forget(name: string): void {
    this.#volumes.delete(name);
  }
}
