import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.js';
import { ModelsController } from './models.controller.js';

@Module({ imports: [ProvidersModule], controllers: [ModelsController] })
export class ModelsModule {}
