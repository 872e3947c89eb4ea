// jtel record definition of dialler contacts (spec §5.3).
import { defineRecord, field } from '../../http/records.ts';

export const ContactRecord = defineRecord(
  'DiallerContact',
  {
    ID: field.int('k.id'),
    DiallerCampaignsID: field.int('k.campaign_id'),
    Name: field.text('k.name'),
    FirstName: field.text('k.first_name', { nullable: true }),
    Email: field.text('k.email', { nullable: true }),
    PhoneNumber1: field.text('k.phone_number1', { nullable: true }),
    PhoneNumber2: field.text('k.phone_number2', { nullable: true }),
    PhoneNumber3: field.text('k.phone_number3', { nullable: true }),
    PhoneNumber4: field.text('k.phone_number4', { nullable: true }),
    PhoneNumber5: field.text('k.phone_number5', { nullable: true }),
    PhoneNumber6: field.text('k.phone_number6', { nullable: true }),
    UserData: field.text('k.user_data', { nullable: true }),
    dtCreated: field.timestamp('k.created_at'),
    dtLastModified: field.timestamp('k.updated_at'),
  },
  { from: 'dialler_contacts k', clientColumn: 'k.client_id', idColumn: 'k.id', defaultOrderBy: 'ID' },
);
