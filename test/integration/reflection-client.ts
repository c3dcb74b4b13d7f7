/**
 * A gRPC server reflection client (grpc.reflection.v1.ServerReflection), as
 * grpcurl uses it: one ServerReflectionInfo stream, one request and its
 * answer at a time. Built with grpc-js from the reflection .proto that
 * @grpc/reflection ships, so the test speaks the real wire protocol.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { FileDescriptorProto } from '../../src/gen/google/protobuf/descriptor.js';

const reflectionPackageDir = dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json'));

/** One reflection response, with proto-loader's default field names (lowerCamelCase). */
interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** A reflection stream to one server. */
export class ReflectionClient {
  private readonly client: grpc.Client & {
    serverReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse>;
  };

  constructor(address: string) {
    const definition = loadSync('grpc/reflection/v1/reflection.proto', {
      includeDirs: [join(reflectionPackageDir, 'build', 'proto')],
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const Ctor = pkg.grpc.reflection.v1.ServerReflection;
    this.client = new Ctor(address, grpc.credentials.createInsecure()) as unknown as typeof this.client;
  }

  /** Send one request on a fresh stream and return the one answer. */
  private ask(request: object): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.serverReflectionInfo();
      call.once('data', (response: ReflectionResponse) => {
        call.end();
        resolve(response);
      });
      call.once('error', reject);
      call.write(request);
    });
  }

  /** The full names of the services the server lists. */
  async listServices(): Promise<string[]> {
    const r = await this.ask({ listServices: '*' });
    if (!r.listServicesResponse) throw new Error(`no list_services answer: ${JSON.stringify(r)}`);
    return r.listServicesResponse.service.map((s) => s.name).sort();
  }

  /** The file descriptors (with their dependencies) of the file defining `symbol`. */
  async fileContainingSymbol(symbol: string): Promise<FileDescriptorProto[]> {
    const r = await this.ask({ fileContainingSymbol: symbol });
    if (!r.fileDescriptorResponse) throw new Error(`no file descriptor for ${symbol}: ${JSON.stringify(r)}`);
    return r.fileDescriptorResponse.fileDescriptorProto.map((b) => FileDescriptorProto.decode(b));
  }

  close(): void {
    this.client.close();
  }
}
